"""Long class-name lists of the real data sets, kept out of classes.py so that file stays readable."""
