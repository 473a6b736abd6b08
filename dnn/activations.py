"""Activation functions, each forward beside its backward (dA -> dZ)."""
import numpy as np

LEAKY_SLOPE = 0.01


def sigmoid(Z):
    A = 1 / (1 + np.exp(-Z))  # the course's formula, kept for bit-exact reference runs
    return A, Z


def sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def relu(Z):
    return np.maximum(Z, 0), Z


def relu_backward(dA, Z):
    return dA * (Z > 0)


def leaky_relu(Z):
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z), Z


def leaky_relu_backward(dA, Z):
    return np.where(Z > 0, dA, LEAKY_SLOPE * dA)


def tanh(Z):
    return np.tanh(Z), Z


def tanh_backward(dA, Z):
    T = np.tanh(Z)
    return dA * (1 - T * T)


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))  # shift: exp never overflows
    E /= E.sum(axis=0, keepdims=True)  # in place: E is our own temporary
    return E, Z


FORWARD = {"relu": relu, "leaky_relu": leaky_relu, "tanh": tanh, "sigmoid": sigmoid}
BACKWARD = {
    "relu": relu_backward,
    "leaky_relu": leaky_relu_backward,
    "tanh": tanh_backward,
    "sigmoid": sigmoid_backward,
}
HIDDEN_ACTIVATIONS = tuple(FORWARD)
