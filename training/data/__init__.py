"""Training data: dataset readers, face-crop cache, fake synthesis and PyTorch datasets."""
