"""Figure 2 of the paper: the Hessian spectrum of linear networks at the optimum.

For an ensemble of linear teachers (Gaussian weights of variance 1/fan_in) the nonzero
eigenvalues of the exact population Hessian are pooled into a histogram and set against the
law of paper Section 3.1: the convolution C of the scaled chi-square law χ²_Nh/Nh with the
scaled Marchenko–Pastur law (Eq. 15) when Ni ≤ Nh (left), the mixture
(Ni − Nh)/Ni · χ²_Nh/Nh + Nh/Ni · C when Ni > Nh (right).

    python examples/figure2_histogram.py [--teachers 1000] [--out figure2.png]
"""

from __future__ import annotations

import argparse

import numpy as np

import nearopt


def pooled_eigenvalues(ni, nh, teachers, seed=1):
    """The nonzero eigenvalues (rank-many per teacher) of `teachers` linear teachers."""
    out = []
    for k in range(teachers):
        t = nearopt.Network.sample_teacher("linear", ni, nh, seed=seed, stream=k)
        s = nearopt.spectrum(t)
        out.append(s["eigenvalues"][-s["rank"]:])
    return np.concatenate(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--teachers", type=int, default=1000)
    p.add_argument("--out", default="figure2.png")
    args = p.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (ni, nh) in zip(axes, [(10, 20), (30, 10)]):
        ev = pooled_eigenvalues(ni, nh, args.teachers)
        x = np.linspace(0, ev.max() * 1.05, 400)
        theory = nearopt.linear_spectrum_density(ni, nh, x)
        ax.hist(ev, bins=60, density=True, alpha=0.5, label=f"{args.teachers} teachers")
        ax.plot(x, theory, "r", label="Section 3.1 law")
        ax.set_title(f"linear, Ni = {ni}, Nh = {nh}")
        ax.set_xlabel("eigenvalue λ")
        ax.set_ylabel("density")
        ax.legend()
        print(f"Ni={ni} Nh={nh}: {ev.size} eigenvalues, mean {ev.mean():.4f} (theory 1 + Nh/Ni = {1 + nh / ni:.4f})")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
