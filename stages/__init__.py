"""One thin entry point per dvc.yaml stage: python -m stages.<name>.

Importing this package first makes the stage end with the DVC process that started it (face_emotion.core.lifetime),
before the stage module imports anything slow such as TensorFlow."""

from face_emotion.core.lifetime import end_with_launcher

end_with_launcher()
