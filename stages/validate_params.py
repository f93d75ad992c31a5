"""Stage validate_params: fail the pipeline on any bad key in params.yaml.

DVC re-runs a stage only when one of its *declared* params changes, so a typo'd
or unknown key would otherwise be silently ignored. This stage tracks the whole
file and validates it against the schema in aloe.params.
"""

import click

from aloe.stage import setup


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
def main(params_path: str) -> None:
    setup(params_path)
    click.echo(f"{params_path}: valid")


if __name__ == "__main__":
    main()
