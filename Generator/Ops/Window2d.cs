using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// What <c>Conv2d</c> and the 2-D pooling layers share: sizes given as one number or a <c>(height, width)</c> pair
/// (PyTorch's <c>_size_2_t</c>, <c>Dsl.Size2</c>), and the output size with PyTorch's <c>ceil_mode</c> rule.
/// </summary>
internal static class Window2d
{
    /// <summary>
    /// The (height, width) of size argument <paramref name="name"/>: one number for both, or a pair; null when the call has no
    /// such argument or left it null (the layer's default applies).
    /// </summary>
    public static (long H, long W)? Pair(LayerArgs args, string name)
    {
        if (!args.Has(name) || args.String(name) is not null)
        {
            return null;
        }
        var raw = args.Raw(name);
        return raw.Kind == ArgKind.IntArray ? (raw.Ints[0], raw.Ints[1]) : (args.Int(name), args.Int(name));
    }

    /// <summary>True when the argument is given and true (<c>ceilMode: true</c>); false when the call has no such argument.</summary>
    public static bool Flag(LayerArgs args, string name) => args.Has(name) && args.Bool(name);

    /// <summary>
    /// PyTorch's pooling output size along one dimension: floor or ceil of (padded - window) / stride, plus one; in ceil mode
    /// the last window must start inside the input or its leading padding (<c>(out - 1) * stride &lt; size + pad</c>),
    /// else it is dropped. <paramref name="window"/> is the effective (dilated) window.
    /// </summary>
    public static long OutSize(long size, long pad, long window, long stride, bool ceilMode)
    {
        long span = checked(size + 2 * pad - window);
        long steps = ceilMode ? (span + stride - 1) / stride : span / stride;
        long output = steps + 1;
        if (ceilMode && (output - 1) * stride >= size + pad)
        {
            output--;
        }
        return output;
    }

    /// <summary>"3" for a square size, "(1, 7)" for a pair: as the user would write it.</summary>
    public static string Text(long h, long w) => h == w ? LayerRules.Text(h) : $"({LayerRules.Text(h)}, {LayerRules.Text(w)})";
}
