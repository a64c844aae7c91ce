"""VGG16's 13 conv layers as the fixture scripts name them, in order.

make_weights.py and gen_keras_h5.py both import this, so the torchvision
indices and the Keras names they write cannot drift apart.
"""

# torchvision's conv indices inside vgg16().features (ReLU/MaxPool elsewhere).
TORCH_FEATURE_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]

# Keras' VGG16 layer names for the same convs.
CONV_NAMES = [
    "block1_conv1", "block1_conv2",
    "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3",
    "block4_conv1", "block4_conv2", "block4_conv3",
    "block5_conv1", "block5_conv2", "block5_conv3",
]
