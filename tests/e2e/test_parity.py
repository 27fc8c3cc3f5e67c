"""The parity check against the seed-era pipeline in MXNet's own Python (scripts/run-parity.sh):
bit-identical input tensors, raw outputs within 1e-4 and the same top-5, for ResNet-18 (random
weights) and both example models, on JPEGs and PNGs of several sizes, colour and gray."""

import subprocess

from conftest import ROOT


def test_parity_with_the_seed_pipeline():
    result = subprocess.run(
        [str(ROOT / "scripts/run-parity.sh")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-8000:]
    assert "PASS: all 3 pairs" in result.stdout
