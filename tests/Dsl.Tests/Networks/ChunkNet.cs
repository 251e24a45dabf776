using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// An operation with several values: <c>Chunk</c> splits the hidden channels into three parts, two are selected (one
/// twice, so its gradient accumulates) and the third is never used (its slice of the gradient is zero), then joined by <c>+</c>.
/// </summary>
[Network]
public partial class ChunkNet
{
    static Net Define()
    {
        var h = Input(5) | Linear(12) | Tanh;
        var parts = h | Chunk(3);
        var a = parts | Select(0) | Linear(3);
        var b = parts | Select(2) | Sigmoid;
        var c = parts | Select(2) | Linear(4) | Tanh;
        return (a + (b | Linear(3)) + (c | Linear(3))) | LogSoftmax;
    }
}

/// <summary>A chunk of the input itself (no parameter upstream): every part's gradient exists only when the input's is asked for.</summary>
[Network]
public partial class InputChunkNet
{
    static Net Define()
    {
        var parts = Input(2, 3, 3) | Chunk(2);
        return ((parts | Select(1)) + (parts | Select(0) | Conv2d(1, kernel: 1))) | Flatten | Linear(2);
    }
}
