"""tests/browser/ holds the notebook that tests/test_browser.py opens in JupyterLab. It is a fixture, not a
test: nbval must not run it (its panels only do something when a browser presses their buttons)."""

collect_ignore = ["panels.ipynb"]
