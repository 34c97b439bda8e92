"""Cross-check of the rivals against their authors' code (`python -m scripts.crosscheck --help`).

It runs third-party code from the user's own clones, so it lives beside the speed scripts and is not
part of the installed package."""
