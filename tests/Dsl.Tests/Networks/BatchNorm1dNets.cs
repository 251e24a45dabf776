using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary><c>nn.BatchNorm1d(4)</c> alone on [N,4] samples: checked against PyTorch (batchnorm1d.json).</summary>
[Network]
public partial class BatchNorm1dFeatures
{
    static Net Define() => Input(4) | BatchNorm1d(4);
}

/// <summary><c>nn.BatchNorm1d(2)</c> alone on [N,2,5] samples (statistics over N and L).</summary>
[Network]
public partial class BatchNorm1dSequence
{
    static Net Define() => Input(2, 5) | BatchNorm1d(2);
}

/// <summary>BatchNorm1d after a Linear (channels inferred) and over [C,L], inside a network checked by finite differences.</summary>
[Network]
public partial class BatchNorm1dNet
{
    static Net Define()
    {
        var features = Input("x", 3, 4);
        var normed = features | BatchNorm1d() | Tanh | Flatten;
        return normed | Linear(5) | BatchNorm1d(5) | Sigmoid | Linear(2);
    }
}
