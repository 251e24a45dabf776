namespace Dsl.Visualization;

/// <summary>
/// The three gradient pictures of one image and class (<see cref="Saliency.Compute"/>): each [C*H*W] like the image,
/// d score / d input under the network's three ReLU backward rules.
/// </summary>
public sealed record SaliencyMaps(float[] Gradient, float[] DeconvNet, float[] Guided, int Channels, int Height, int Width, int Target);
