"""Stage base_model: materialise models/base from base_model.source."""

import click

from aloe.base_model import materialise
from aloe.stage import setup


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--out", required=True)
def main(params_path: str, out: str) -> None:
    p = setup(params_path).base_model
    materialise(p.source, p.revision, out)
    click.echo(f"wrote {out} from {p.source}")


if __name__ == "__main__":
    main()
