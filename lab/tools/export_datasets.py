#!/usr/bin/env python3
"""Export the two real datasets the experiment runner uses into lab/data/*.csv.

Run once from the repository root: `python3 lab/tools/export_datasets.py` (needs scikit-learn,
which bundles both datasets; nothing is downloaded). The Rust side only reads the CSV files.

- lab/data/breast_cancer.csv: UCI Wisconsin Diagnostic Breast Cancer (WDBC), 569 rows, 30 raw
  features then the label (1 = benign, 0 = malignant), as distributed by scikit-learn.
- lab/data/diabetes.csv: Efron et al. (2004) diabetes data, 442 rows, 10 raw (unscaled) features
  then the disease-progression target, as distributed by scikit-learn.

Values are written with 6 significant digits; standardisation and the train/test split happen
in Rust (lab/src/bayes.rs) so that they are visible next to the models.
"""
import csv
import os

from sklearn.datasets import load_breast_cancer, load_diabetes

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def write(name, header, features, target):
    path = os.path.join(OUT, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row, y in zip(features, target):
            w.writerow([f"{v:.6g}" for v in row] + [f"{y:.6g}"])
    print(f"wrote {path}: {len(target)} rows x {len(header)} columns")


def main():
    bc = load_breast_cancer()
    names = [n.replace(" ", "_") for n in bc.feature_names]
    write("breast_cancer.csv", names + ["benign"], bc.data, bc.target)
    db = load_diabetes(scaled=False)
    write("diabetes.csv", list(db.feature_names) + ["progression"], db.data, db.target)


if __name__ == "__main__":
    main()
