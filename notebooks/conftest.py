"""pytest runs the notebooks (notebooks/*.ipynb, with nbmake); their percent-format sources
(notebooks/NN_*.py, paired by jupytext) are not tests and must not be collected."""

collect_ignore_glob = ["*.py"]
