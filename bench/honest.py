"""The honest protocol's split in Python (docs/evaluation.md), for the bench scripts that build
catalogues from the shipped dataset: the primary artist's 64-bit FNV-1a hash, mod 5, is the
TEST fold."""

import argparse

import pandas as pd


def model_args(doc):
    """The flags of a bench script that measures a saved model: --model, --hitcast, --data."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--hitcast", default="target/release/hitcast")
    parser.add_argument("--data", default="data/spotify_tracks.csv.gz")
    return parser.parse_args()


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def in_test(frame, fold=0):
    """Whether each row's primary artist (before the first `;`, trimmed, lowercased) is in
    TEST fold `fold`."""
    primary = frame["artists"].fillna("").str.split(";").str[0].str.strip().str.lower()
    return primary.map(lambda a: fnv1a64(a) % 5 == fold)


def rows(data):
    """The dataset's rows (the first column is pandas' old index)."""
    return pd.read_csv(data, index_col=0)
