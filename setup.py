"""Install the espnet_l2dual plug-in into an ESPnet environment.

The ranges are those the supported ESPnet releases (202511 to 202611) allow themselves; the
tested stacks (exact pins) live in tools/install.sh.
"""

from setuptools import find_packages, setup

setup(
    name="espnet_l2dual",
    version="0.1.0",
    description="Dual-output (surface + meaning) ASR for L2 speech as an ESPnet plug-in",
    packages=find_packages(include=["espnet_l2dual", "espnet_l2dual.*"]),
    python_requires=">=3.10",
    install_requires=[
        "espnet>=202511",
        # ESPnet 202511 was tested from torch 2.5.1; 202611 requires torch >= 2.11, < 2.15
        # (not 2.12.*) with torchaudio 2.11
        "torch>=2.5.1,<2.15,!=2.12.0,!=2.12.1",
        "torchaudio>=2.5.1,<2.12",
        "numpy",
        "PyYAML",
        "scipy",
        "editdistance",  # espnet's ErrorCalculator; a core dependency of espnet only until 202511
        "sentencepiece",
        "kaldiio",
        "jiwer",
        "python-Levenshtein",
        "matplotlib",
        "jamo",
        "soundfile",
        "jinja2",
        "markdown",
        "transformers>=4.57.3",  # the SSL front end; tested 4.57.3 (torch 2.9) and 5.25 (torch 2.14)
    ],
    package_data={"espnet_l2dual.report": ["templates/*.j2"]},
    entry_points={
        "console_scripts": [
            "l2dual-transcribe = espnet_l2dual.bin.transcribe:main",
            "l2dual-make-report = espnet_l2dual.bin.make_report:main",
            "l2dual-html-report = espnet_l2dual.bin.html_report:main",
            "l2dual-results-md = espnet_l2dual.bin.results_md:main",
            "l2dual-validate-data-dir = espnet_l2dual.bin.validate_data_dir:main",
            "l2dual-resolve-config = espnet_l2dual.bin.resolve_config:main",
            "l2dual-export-espnet-asr = espnet_l2dual.bin.export_espnet_asr:main",
        ],
    },
)
