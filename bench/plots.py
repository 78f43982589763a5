#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PNG plots for docs/performance.md from the raw results of scripts/bench.

usage: plots.py RESULTS_DIR IMG_DIR

Writes into IMG_DIR:
  ns_per_op.png        ns/op per allocator and workload (grouped bars)
  w3_utilization.png   W3 utilization over time, first seed (kheap and
                       the reference policies)
and lists the files it wrote in RESULTS_DIR/plots.txt (report.py shows
only those). Needs matplotlib (Debian's python3-matplotlib, so run it with
/usr/bin/python3); exits 3 with a message if it is missing.

The images are made to be reproducible from the same numbers: Agg
backend, fixed size, DPI, font and colours, no timestamp or software tag
in the PNG metadata. The worst-case-vs-heap-size plot for Cortex-M is not
made here (docs/img/worst_case_cortex_m.png comes from the QEMU runs; see
report.py, render_qemu_worst).
"""
import os
import sys

# Importing report.py must not leave a __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import Results  # noqa: E402  (the same parsing as the report)

# One colour per allocator, the same in every plot and every run.
COLOURS = {
    "kheap": "#1f77b4",
    "glibc": "#7f7f7f",
    "jemalloc": "#d62728",
    "mimalloc": "#2ca02c",
    "ref-bestfit": "#ff7f0e",
    "ref-firstfit": "#8c564b",
}
FALLBACK = ["#ff7f0e", "#e377c2", "#bcbd22", "#17becf"]


def colour(name, i):
    return COLOURS.get(name, FALLBACK[i % len(FALLBACK)])


def setup():
    try:
        import matplotlib
    except ImportError:
        sys.stderr.write("plots.py: matplotlib is not installed for %s "
                         "(Debian: apt-get install python3-matplotlib; "
                         "scripts/setup does)\n" % sys.executable)
        sys.exit(3)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.axisbelow": True,
    })
    return plt


def save(plt, fig, path):
    # No "Software" (matplotlib version) or creation time in the file.
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def ns_per_op(plt, res, path):
    names = res.allocators()
    workloads = res.workloads()
    if not names or not workloads:
        return False
    fig, ax = plt.subplots(figsize=(9.0, 4.2))
    n = len(names)
    width = 0.8 / n
    top = 0.0
    for i, name in enumerate(names):
        xs, ys = [], []
        for j, wl in enumerate(workloads):
            r = res.time_rec(wl, name)
            if not r:
                continue
            x = j - 0.4 + width * (i + 0.5)
            v = float(r["ns_median"])
            top = max(top, v)
            if res.invalid(r):
                # Not a valid result: no bar, a note in its place.
                ax.text(x, 0.5, "invalid: misaligned blocks",
                        rotation=90, ha="center", va="bottom", fontsize=7,
                        color=colour(name, i))
                continue
            xs.append(x)
            ys.append(v)
        ax.bar(xs, ys, width=width * 0.95, label=name,
               color=colour(name, i))
    rounds = res.time[0].get("rounds", "?")
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads)
    ax.set_ylabel("ns per operation (lower is better)")
    ax.set_ylim(0, top * 1.12 if top else 1)
    ax.set_title("Time per operation, median of %s interleaved rounds "
                 "(same run)" % rounds)
    ax.legend(ncol=n, loc="upper left", frameon=False)
    fig.tight_layout()
    save(plt, fig, path)
    return True


def w3_utilization(plt, res, path):
    series = {}
    for r in res.w3trace:
        series.setdefault(r["alloc"], []).append(
            (int(r["op"]), float(r["util_pct"])))
    if not series:
        return False
    seed = res.w3trace[0]["seed"]
    first = {r["alloc"]: r for r in res.w3 if r["seed"] == seed}
    # Left: the fill, to a little after the last first failure; right:
    # the whole run, where the steady state takes almost all the width.
    fill_end = max([int(f["ops_to_failure"]) for f in first.values()] +
                   [0]) + 1500
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(9.0, 4.2), sharey=True,
        gridspec_kw={"width_ratios": [1, 2]})
    for i, (name, pts) in enumerate(series.items()):
        c = colour(name, i)
        for ax in (ax1, ax2):
            sel = [p for p in pts if ax is ax2 or p[0] <= fill_end]
            # kheap on top: every policy follows the same path until
            # its own first failure.
            ax.plot([p[0] for p in sel], [p[1] for p in sel], color=c,
                    linewidth=0.9, label=name,
                    zorder=3 if name == "kheap" else 2)
            f = first.get(name)
            if f:
                ax.plot([int(f["ops_to_failure"])],
                        [float(f["util_first_pct"])], marker="o", color=c,
                        markersize=5, linestyle="none")
    for ax in (ax1, ax2):
        ax.axhline(92.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_ylim(0, 100)
        ax.set_xlim(left=0)
        ax.set_xlabel("op")
    ax1.set_xlim(0, fill_end)
    ax1.text(fill_end * 0.02, 93.0, "target at first failure: 92%",
             fontsize=7, va="bottom")
    ax1.set_ylabel("live requested bytes / region (%)")
    ax1.set_title("fill to the first failure (dot)")
    ax2.set_title("whole run: fill, then the steady state")
    ax2.legend(loc="lower right", frameon=False)
    fig.suptitle("W3, 256 KiB region, seed %s: utilization every 250 ops"
                 % seed, fontsize=10)
    fig.tight_layout()
    save(plt, fig, path)
    return True


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, img = sys.argv[1], sys.argv[2]
    plt = setup()
    res = Results(out)
    os.makedirs(img, exist_ok=True)
    made = []
    for name, fn in [("ns_per_op.png", ns_per_op),
                     ("w3_utilization.png", w3_utilization)]:
        if fn(plt, res, os.path.join(img, name)):
            made.append(name)
            print("plots: wrote %s" % os.path.join(img, name))
    with open(os.path.join(out, "plots.txt"), "w", encoding="utf-8") as f:
        for name in made:
            f.write(name + "\n")


if __name__ == "__main__":
    main()
