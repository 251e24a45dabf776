using Specs.Networks;

namespace Specs.Cli;

public static partial class NetworkCatalog
{
    // One entry per network of Specs/Networks; the name is what 'train' and 'summary' take.
    private static readonly IReadOnlyList<NetworkInfo> Entries =
    [
        new("mlp", "784-256-128-100-10 perceptron of the Fashion-MNIST benchmark table (0.883 there)",
            (d, s) => new Mlp(d, s), () => Mlp.Summary, Mlp.InputShape, Recipe.CourseSgd),
        new("residual-mlp", "an MLP of residual blocks written with var bindings and '+'",
            (d, s) => new ResidualMlp(d, s), () => ResidualMlp.Summary, ResidualMlp.InputShape, Recipe.CourseSgd),
        new("mnist-net", "PyTorch's MNIST example network (conv 10@5x5, conv 20@5x5, Dropout2d, fc 320-50-10)",
            (d, s) => new MnistNet(d, s), () => MnistNet.Summary, MnistNet.InputShape, Recipe.CourseSgd),
        new("two-conv", "'2 Conv+pooling' of the Fashion-MNIST benchmark table (0.916 there)",
            (d, s) => new TwoConvNet(d, s), () => TwoConvNet.Summary, TwoConvNet.InputShape, Recipe.CourseSgd with { Optimizer = OptimizerKind.Adam, LearningRate = 1e-3f }),
    ];
}
