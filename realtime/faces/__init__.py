"""Face detection, tracking and cropping."""
