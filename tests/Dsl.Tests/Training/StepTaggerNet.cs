using static Dsl.Layers;

namespace Dsl.Tests.Training;

/// <summary>
/// A sequence [N,T,4] of symbolic length with its padding mask [N,T] (declared, so Forward takes and checks it), scored
/// per step into [N,T,3]: the shape of a language model's output, for the trainer's [N,T,C] path.
/// </summary>
[Network]
public partial class StepTaggerNet
{
    static Net Define()
    {
        var x = Input("x", "T", 4);
        var mask = Mask("mask", "T");
        return x | Linear(12) | Tanh | Linear(3);
    }
}
