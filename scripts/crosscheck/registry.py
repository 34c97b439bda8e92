"""Every reference the cross-check knows: one adapter file each, one line here."""

from __future__ import annotations

from scripts.crosscheck import mmgcn, mult, multiemo, sdt
from scripts.crosscheck.reference import Reference

REFERENCES: dict[str, Reference] = {
    r.name: r for r in (sdt.REFERENCE, mmgcn.REFERENCE, mult.REFERENCE, multiemo.REFERENCE)
}
