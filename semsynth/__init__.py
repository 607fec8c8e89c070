"""semsynth: semantic scene generation (layout GANs -> SPADE/USIS photos) and trustworthy evaluation.

Docstrings cite the official code as S: (NVlabs/SPADE), O: (boschresearch/OASIS) and U: (the USIS authors' code,
GeorgeEskandar/USIS-Unsupervised-Semantic-Image-Synthesis), followed by a path in that repository; UP is the USIS
paper (Eskandar et al. 2023, "USIS: Unsupervised Semantic Image Synthesis"), § and Eq. its sections and equations.
"""
__version__ = "0.1.0"


def __getattr__(name):
    if name == "Pipeline":  # lazy: `import semsynth` stays light
        from semsynth.inference.pipeline import Pipeline
        return Pipeline
    raise AttributeError(name)
