"""classify.py - the digits classifier, compiled by tensorc, driven from Python.

    tensorc --emit=shared examples/digits.tc -o libdigits.so
    python3 examples/python/classify.py libdigits.so [--epochs 10] [--params-in DIR]

NumPy loads examples/data/digits.csv and keeps every 6th image out of
training (as examples/digits.tc does); the compiled library holds the
weights and does the work: train_step(x, y, lr) for each batch of a shuffled
epoch, predict(x) to score.  With --params-in DIR (say build/demo/digits-params,
written by scripts/demo.sh) the weights are loaded instead and nothing is
trained.  Prints the loss and accuracies of each epoch, then the final
held-out accuracy.
"""
import argparse
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))  # python/tensorc.py in this checkout
import tensorc  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("lib", help="examples/digits.tc compiled with tensorc --emit=shared")
ap.add_argument("--data", default=os.path.join(here, "..", "data", "digits.csv"))
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--lr", type=float, default=0.3)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--params-in", help="a directory of trained NAME.npy files: load them, skip training")
args = ap.parse_args()

# the data: 64 pixels 0..16, then the label; '#' lines are comments
data = np.loadtxt(args.data, delimiter=",", dtype=np.float32)
X = data[:, :-1] / np.float32(16.0)
y = data[:, -1].astype(np.int64)
held = np.arange(len(X)) % 6 == 5  # rows 5, 11, ...: 1 in 6, only scored
X_train, y_train, X_test, y_test = X[~held], y[~held], X[held], y[held]

model = tensorc.load(args.lib, seed=args.seed, params_in=args.params_in)
rng = np.random.default_rng(args.seed)
epochs = 0 if args.params_in else args.epochs
for epoch in range(epochs):
    order = rng.permutation(len(X_train))
    for start in range(0, len(order), args.batch):
        rows = order[start:start + args.batch]
        loss = model.train_step(X_train[rows], y_train[rows], args.lr)
    print("epoch %d loss %.4f train accuracy %.4f held-out accuracy %.4f" % (
        epoch, loss, np.mean(model.predict(X_train) == y_train), np.mean(model.predict(X_test) == y_test)))

accuracy = np.mean(model.predict(X_test) == y_test)
print("held-out accuracy: %.4f (%d images)" % (accuracy, len(X_test)))
model.close()
