"""The bundled pretrained models: name -> {file path inside semsynth/pretrained/<name>/: its SHA-256}.

The hashes live here, in code, not in a manifest beside the files: a damaged or replaced weights file cannot bring
its own matching hash. `semsynth demo --train ... --export-pretrained DIR` prints the entry to paste here after
copying DIR to semsynth/pretrained/<name>/ (see semsynth/pretrained/export.py).
"""
from __future__ import annotations

BUNDLED: dict[str, dict[str, str]] = {
    'synthetic-streets-64x128': {
        'image/config.json': '5fe564935bcb6c9204a31559e89018414abdc584d0fde15a8025b98e07c18128',
        'image/model.safetensors': '8479487713b0d77b319ee01a0260fc067e22e3394969692ae452cf749bbe1483',
        'layout/config.json': '6d7e790f1d459f99e518f829894af566d05a2d58aa889eddb60ebdff7e62124f',
        'layout/model.safetensors': 'c6cf7cc34861dc2d27a8be4e777c750206b9303481951a18064774aa88fd5257',
        'segmenter/config.json': '97bbe4c97cf75713bcab6773ac28f20cffbc70929fcc905e6b3ba5139e47b049',
        'segmenter/model.safetensors': '76cc0b599f5a6b62b11691dd2e9e3e74ebf019007521caa3184972d485b92d27',
        'sis-paired/config.json': '5c8d1820764fdd14c8c9c9e197cc89b7a3f5f5bc7a0dba1b15a79d1596c5e28e',
        'sis-paired/model.safetensors': '4bb9fdcb66f1d1249c5dcd3ee4dd2fe9587b1612543fc17f3882cb82205bae37',
        'sis-unpaired/config.json': 'b635907ade42dca71349ec123304c398906bfad36a5f790c02b81eae563572d3',
        'sis-unpaired/model.safetensors': '1bb030079ba89474a51d1c6f066e31562b2fe6d956f412ffd539b7a1f9839bae',
    },
}
