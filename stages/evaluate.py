"""Stage evaluate: every model on the same test faces, unmasked and under each test mask (mask.test_style,
mask.unseen_style), and the mask detector on both: headline metrics, confusion matrices, the full comparison table
and every face's answers (face_emotion.evaluation.evaluate)."""

from face_emotion.core.config import Params
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.evaluation.evaluate import evaluate


def main(params: Params, paths: Paths) -> None:
    print(evaluate(params, paths))


if __name__ == "__main__":
    run_stage(main)
