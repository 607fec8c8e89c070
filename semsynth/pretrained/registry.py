"""The bundled pretrained models: name -> {file path inside semsynth/pretrained/<name>/: its SHA-256}.

The hashes live here, in code, not in a manifest beside the files: a damaged or replaced weights file cannot bring
its own matching hash. `semsynth demo --train ... --export-pretrained DIR` prints the entry to paste here after
copying DIR to semsynth/pretrained/<name>/ (see semsynth/pretrained/export.py).
"""
from __future__ import annotations

BUNDLED: dict[str, dict[str, str]] = {
    'synthetic-streets-64x128': {
        'image/config.json': '5fe564935bcb6c9204a31559e89018414abdc584d0fde15a8025b98e07c18128',
        'image/model.safetensors': 'd7cc898286e3c058fb3a82a0d01963ced47f7a98fedc4aab05d01af758e28d81',
        'layout/config.json': '6d7e790f1d459f99e518f829894af566d05a2d58aa889eddb60ebdff7e62124f',
        'layout/model.safetensors': '135e56ed9ed1c18ececc2047492719bbe98cd869d6c4a600593521f0f27cab81',
        'segmenter/config.json': 'a7ccb043a258a5419950f9ef2e02da786ae88f627aea34e9b25c3dc80d9a682b',
        'segmenter/model.safetensors': '7ff1733ab7872dd14db3257204a1d70086d580ccf4f47d53cc10217e5259fcde',
        'sis-paired/config.json': 'ba966151a765780d3d75fb7ab0abaedfa41a614adc17db095eede073f7c33b4c',
        'sis-paired/model.safetensors': 'f81ac2277f226a9440278ea481bcc5628d4e171333b4f22f5f77eda4cf4f7aa1',
        'sis-unpaired/config.json': 'b635907ade42dca71349ec123304c398906bfad36a5f790c02b81eae563572d3',
        'sis-unpaired/model.safetensors': 'bcaa5564f217cf9c790a805b71123d52e8ed0dfd4c4fd60a8aaf630c944be28f',
    },
}
