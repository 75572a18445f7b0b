"""Stage answer_faces: every model on raw faces (the CNN, Teachable Machine exports) answers every test face,
unmasked and under each test mask, the mask detector gives its verdicts, the black boxes answer every training face,
and a concept CNN is checked against the measured AUs (face_emotion.evaluation.answering). evaluate and
surrogates read these answers, so an AU-model experiment runs no CNN."""

from face_emotion.core.config import Params
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.evaluation.answering import answer_faces


def main(params: Params, paths: Paths) -> None:
    print(answer_faces(params, paths))


if __name__ == "__main__":
    run_stage(main)
