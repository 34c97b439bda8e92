"""The cross-entropy's class weightings, by name: the profiles' training settings and the text encoder's
fine-tuning (a part of the data layer) both name one, so the names live below both.

INVERSE_FREQUENCY: each class weighted by 1 / (its share of the train+validation utterances), SDT's
`train.py` on IEMOCAP (the specification: "IEMOCAP class weights = inverse train+valid frequencies
(SDT)"); UNWEIGHTED: plain, as SDT on MELD.
"""

UNWEIGHTED, INVERSE_FREQUENCY = "none", "inverse-frequency"
CLASS_WEIGHTINGS = (UNWEIGHTED, INVERSE_FREQUENCY)
