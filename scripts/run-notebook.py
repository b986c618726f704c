"""Runs a notebook headlessly on the project's tslab kernel and exports it to HTML.

    JUPYTER_PATH=<project>/.jupyter /usr/bin/python3 scripts/run-notebook.py NOTEBOOK \
        [--cwd DIR] [--timeout SECONDS] [--out-ipynb PATH] [--out-html PATH]

Used by the notebook tests (test/notebooks.test.ts) and usable by hand (register the kernelspec
first: `npx tsx scripts/kernelspec.ts`). Needs Debian's python3-nbclient and jupyter-nbconvert
(`sudo apt-get install jupyter-nbconvert python3-nbclient jupyter-client`). Exits 1 with the failing
cell's error on stderr when a cell fails (nbclient stops at the first error), 2 on bad usage.
"""
import argparse
import sys

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter
except ImportError as err:
    print(f"run-notebook: {err}: install Debian's jupyter-nbconvert python3-nbclient jupyter-client "
          "(sudo apt-get install jupyter-nbconvert python3-nbclient jupyter-client)", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--cwd", help="the kernel's working directory (default: the notebook's folder)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--out-ipynb")
    ap.add_argument("--out-html")
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    cwd = args.cwd or (args.notebook.rsplit("/", 1)[0] if "/" in args.notebook else ".")
    client = NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel, resources={"metadata": {"path": cwd}})
    failed = None
    try:
        client.execute()
    except CellExecutionError as err:
        failed = str(err)
    if args.out_ipynb:
        nbformat.write(nb, args.out_ipynb)
    if args.out_html:
        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(args.out_html, "w", encoding="utf-8") as f:
            f.write(body)
    if failed is not None:
        print(f"run-notebook: {args.notebook}: a cell failed:\n{failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
