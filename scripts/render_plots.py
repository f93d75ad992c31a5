"""Every plot dvc.yaml registers, rendered offline to a PNG the docs show: DVC fills each plot's
Vega-Lite spec with its data (``dvc plots show --json``) and vl-convert renders it, with no
browser and no network, each series in its own colour. A plot DVC cannot fill, or fills with
no data, is an error.

    python scripts/render_plots.py                 # docs/figures/<plot>.png
    python scripts/render_plots.py --out-dir DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import vl_convert
import yaml

ROOT = Path(__file__).resolve().parents[1]


def filled_specs(root: Path) -> dict[str, dict]:
    """Each registered plot's Vega-Lite spec with its data, or an error naming those DVC could not fill."""
    names = [next(iter(p)) for p in yaml.safe_load((root / "dvc.yaml").read_text()).get("plots", [])]
    shown = json.loads(
        subprocess.run(
            [sys.executable, "-m", "dvc", "plots", "show", "--json"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    errors = [e for e in shown.get("errors", []) if e["name"] in names]
    specs = {name: shown["data"].get(name) or [] for name in names}
    empty = [n for n, s in specs.items() if not s or not s[0]["content"]["data"]["values"]]
    if errors or empty:
        said = [f"{e['name']}: {e['type']}: {e['msg']}" for e in errors] + [f"{n}: no data" for n in empty]
        raise click.ClickException("plots DVC could not fill:\n  " + "\n  ".join(said))
    return {name: s[0]["content"] for name, s in specs.items()}


def coloured_by_series(spec: dict) -> dict:
    """DVC colours lines by revision and tells series apart by dash alone; with one revision
    every line is one colour, so colour them by series (file or field) instead."""
    dash = spec["encoding"].get("strokeDash", {})
    if "field" not in dash or len(spec["encoding"]["color"].get("scale", {}).get("domain", [])) != 1:
        return spec
    colour = {"field": dash["field"], "type": "nominal", "scale": {"domain": dash["scale"]["domain"]}}

    def recolour(node):
        if isinstance(node, dict):
            return {
                k: colour if k == "color" and v.get("field") == "rev" else recolour(v)
                for k, v in node.items()
                if k != "strokeDash"
            }
        return [recolour(v) for v in node] if isinstance(node, list) else node

    return recolour(spec)


@click.command()
@click.option("--out-dir", default=str(ROOT / "docs" / "figures"), show_default=True)
@click.option("--project", default=str(ROOT), show_default=True, help="the DVC project whose plots to render")
def main(out_dir: str, project: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in filled_specs(Path(project)).items():
        (out / f"{name}.png").write_bytes(vl_convert.vegalite_to_png(coloured_by_series(spec), scale=2))
        click.echo(f"{out / name}.png: {len(spec['data']['values'])} points")


if __name__ == "__main__":
    main()
