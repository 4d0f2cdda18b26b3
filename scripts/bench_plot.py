"""Draws `make bench`'s plot: median apply time against the number of resources, for the
provider and for the same number of terraform_data, so a regression is seen at a glance.

Usage: bench_plot.py APPLY_CSV OUT_PNG TITLE
APPLY_CSV has the columns label, resources, dbaas_seconds, terraform_data_seconds (one row per
configuration, as benches/terraform_bench writes it). Run with the matplotlib that
scripts/install-python-tools.sh installs into .tools/plot.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display: write the file only
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402


def main(csv_path, png_path, title):
    with open(csv_path, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda row: int(row["resources"]))
    resources = [int(row["resources"]) for row in rows]
    ours = [float(row["dbaas_seconds"]) for row in rows]
    reference = [float(row["terraform_data_seconds"]) for row in rows]

    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    ax.plot(resources, ours, marker="o", label="dbaas provider")
    ax.plot(resources, reference, marker="s", label="terraform_data (same N)")
    for x, y, r, row in zip(resources, ours, reference, rows):
        ax.annotate(f"{y:.1f} s ({y / r:.2f}×)", (x, y), textcoords="offset points",
                    xytext=(6, 6), fontsize=8)
        ax.annotate(row["label"], (x, r), textcoords="offset points", xytext=(6, -12),
                    fontsize=7, color="gray")
    # Resources span decades (100 to 6,000): log scales keep every point readable.
    if len(set(resources)) > 1:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.margins(x=0.25, y=0.15)
    # Plain numbers, ticks at the measured sizes: "1,000", not "10^3".
    ax.set_xticks(resources)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("resources in the configuration")
    ax.set_ylabel("terraform apply, median seconds")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
