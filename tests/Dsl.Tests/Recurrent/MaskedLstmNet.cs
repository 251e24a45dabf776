using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// A bidirectional LSTM over a padded batch from given initial states, pooled by attention over the valid steps and read
/// through Last: [N,T,3] -> ([N,6], [N,6]). The mask comes last so the gradient check can hold it constant.
/// </summary>
[Network]
public partial class MaskedLstmNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var h0 = Input("h0", 2, 3);
        var c0 = Input("c0", 2, 3);
        var mask = Mask("mask", "T");
        var y = x | Lstm(3, bidirectional: true, mask: mask, h0: h0, c0: c0);
        return Outputs(y | AttentionPool(mask: mask), y | Last);
    }
}
