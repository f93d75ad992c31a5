"""Stage validate_params: fail the pipeline on any bad key in params.yaml, before any
other stage deletes its outputs.

DVC re-runs a stage only when one of its *declared* params changes, so a typo'd
or unknown key would otherwise be silently ignored. This stage tracks the whole
file and validates it against the schema in aloe.params. Every other stage
depends on its output, so DVC runs it first, even for `dvc repro -f STAGE`. The
output never changes (it says only that validation passed), so a valid edit
re-runs just the stages whose own params changed.
"""

from pathlib import Path

import click

from aloe.files import atomic_path
from aloe.stage import setup


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--out", required=True, help="marker that downstream stages depend on")
def main(params_path: str, out: str) -> None:
    setup(params_path)
    with atomic_path(Path(out)) as tmp:
        tmp.write_text("params.yaml passed validation against src/aloe/params/\n")
    click.echo(f"{params_path}: valid")


if __name__ == "__main__":
    main()
