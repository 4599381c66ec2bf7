"""NumPy helpers for the lecture notebooks "Deep Learning Fundamentals 4":
batch normalization, weight decay, dropout and hyperparameter search, after chapter 6 of
*Deep Learning from Scratch*."""
