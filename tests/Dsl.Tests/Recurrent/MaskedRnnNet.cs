using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A tanh RNN over a padded batch whose initial state [N,4] also feeds the output: h0 gets two gradients.</summary>
[Network]
public partial class MaskedRnnNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var h0 = Input("h0", 4);
        var mask = Mask("mask", "T");
        var y = x | Rnn(4, mask: mask, h0: h0);
        return Outputs(y, (y | Last) + h0);
    }
}
