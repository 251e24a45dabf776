namespace Dsl.Visualization;

/// <summary>
/// One tile of a picture: <paramref name="Pixels"/> holds <paramref name="Channels"/> planes of
/// <paramref name="Height"/> x <paramref name="Width"/> values (1: grey, 3: RGB, PyTorch's [C,H,W] order), shown scaled to
/// [0, 255] over [<paramref name="Low"/>, <paramref name="High"/>] (the tile's own minimum and maximum when null), in grey
/// or RGB, or with a colour map when <paramref name="Heat"/> is set (one channel only).
/// </summary>
public sealed record ImageTile(float[] Pixels, int Channels, int Height, int Width, string? Caption = null, bool Heat = false,
    float? Low = null, float? High = null)
{
    /// <summary>The byte [0, 255] value <paramref name="v"/> shows as over [low, high] (0.5 of the range when low equals high), clamped.</summary>
    public static byte Scale(float v, float low, float high)
    {
        double t = high > low ? (v - (double)low) / ((double)high - low) : 0.5;
        return (byte)Math.Round(255 * Math.Clamp(t, 0.0, 1.0));
    }

    /// <summary>The range the tile is shown over: <see cref="Low"/> and <see cref="High"/>, or the pixels' minimum and maximum.</summary>
    public (float Low, float High) Range()
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in Pixels)
        {
            if (float.IsFinite(v))
            {
                lo = MathF.Min(lo, v);
                hi = MathF.Max(hi, v);
            }
        }
        if (lo > hi)
        {
            lo = hi = 0f;
        }
        return (Low ?? lo, High ?? hi);
    }
}
