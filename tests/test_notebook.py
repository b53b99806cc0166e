"""The example notebook runs top to bottom in a real Jupyter kernel (nbclient + ipykernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "impossible" in text  # the claims check printed its flag
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "<caption>Monte Carlo: osc-2024</caption>" in html  # the batch's _repr_html_
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the figure displayed
    assert "backend: inline" in text  # writing plots did not force Agg on the notebook
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "replications: 2,000 of 2,000 (100 %)" in stderr  # progress shown by default
    (tmp_path / "executed.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
