"""Official checkpoints in: SPADE (NVlabs/SPADE), OASIS (boschresearch/OASIS), USIS and stylegan2-ada-pytorch
networks converted into ordinary semsynth model folders (config.json + model.safetensors), with their outputs
proven equal to the official ones on fixtures (tests/convert/). One module per official code; each has

    convert(source, out, *, size=None, class_set=None, which_epoch="latest") -> Path of the written model folder

Options come from the project's `opt.txt` (text, see opt_txt.py) and from the tensors' shapes; `opt.pkl` is never
read, and the stylegan2-ada pickle is read by a restricted unpickler that never runs the code it carries.
"""
