"""dnn: the deep L-layer network of the classic course, in NumPy (examples as columns)."""
from dnn.activations import (leaky_relu, leaky_relu_backward, relu, relu_backward, sigmoid,
                             sigmoid_backward, softmax, tanh, tanh_backward)
from dnn.cost import compute_cost, l2_cost
from dnn.gradcheck import gradient_check
from dnn.initialize import initialize_parameters
from dnn.layers import (LayerCache, LinearCache, linear_activation_backward,
                        linear_activation_forward, linear_backward, linear_forward)
from dnn.model import model_backward, model_forward, output_logits
from dnn.optimizers import initialize_optimizer, update_parameters
from dnn.settings import ModelSettings, TrainSettings
from dnn.train import DivergenceError, Trainer, accuracy, evaluate, fit, predict, predict_proba

__version__ = "0.1.0"
__all__ = [
    "ModelSettings", "TrainSettings", "LinearCache", "LayerCache",
    "initialize_parameters", "linear_forward", "linear_backward", "linear_activation_forward",
    "linear_activation_backward", "model_forward", "model_backward", "output_logits",
    "compute_cost", "l2_cost", "initialize_optimizer", "update_parameters", "fit", "predict",
    "predict_proba", "accuracy", "evaluate", "gradient_check", "DivergenceError", "Trainer",
    "sigmoid", "sigmoid_backward", "relu", "relu_backward", "leaky_relu", "leaky_relu_backward",
    "tanh", "tanh_backward", "softmax",
]
