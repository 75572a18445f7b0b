"""One run per checkout, for a bare `dvc exp run`: DVC imports the Hydra plugins under .dvc/config's
`hydra.plugins_path` (this module's grandparent folder) before it composes conf/ into params.yaml, so a second run
stops here, in one line, while another run holds the checkout and before anything is written. Not a Hydra plugin
itself: it defines none."""

from dvc.exceptions import DvcException

from face_emotion.core.checkout import checkout_holder, dvc_root

_busy = checkout_holder(dvc_root())
if _busy:
    raise DvcException(_busy)
