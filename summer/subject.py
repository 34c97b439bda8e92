"""SUMMER as the reports see it: the model under test, its label, its text teacher and its "w/o IKD"
ablation (the claims' and the IKD study's baseline). Its ablation rows are summer/ablations.py's, listed
by the reports in the order registered there: adding a row is one entry in that file."""

from benchmark.models.contract import Subject
from summer.distillation import TEACHER

SUBJECT = Subject(model="summer", label="SUMMER", teacher=TEACHER, without_distillation="ikd")
SUMMER = SUBJECT.model  # the registered name, as the reports and the studies write it
