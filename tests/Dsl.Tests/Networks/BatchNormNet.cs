using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>Batch norm alone with non-default eps and momentum, so a hand computation can follow it exactly.</summary>
[Network]
public partial class BatchNormNet
{
    public const double Eps = 1e-3;
    public const double Momentum = 0.2;

    static Net Define() => Input(2, 3, 3) | BatchNorm2d(eps: Eps, momentum: Momentum);
}
