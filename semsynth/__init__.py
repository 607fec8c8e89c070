"""semsynth: semantic scene generation (layout GANs -> SPADE/USIS photos) and trustworthy evaluation."""
__version__ = "0.1.0"


def __getattr__(name):
    if name == "Pipeline":  # lazy: `import semsynth` stays light
        from semsynth.inference.pipeline import Pipeline
        return Pipeline
    raise AttributeError(name)
