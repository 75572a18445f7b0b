"""Finding faces in images and video frames with MediaPipe's FaceLandmarker, and following them from frame to
frame: what AU measurement, predict, the drawings and the video crops of prepare share."""
