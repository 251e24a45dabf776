namespace Dsl.Data;

/// <summary>
/// How raw pixel bytes become floats: <c>(b / 255 - Mean) / Std</c>. <see cref="Unit"/> maps to [0,1];
/// a data set's mean and standard deviation give zero-mean, unit-variance inputs (torchvision's <c>Normalize</c>).
/// </summary>
public readonly record struct PixelScaling(float Mean, float Std)
{
    /// <summary>b / 255: pixels in [0,1].</summary>
    public static PixelScaling Unit => new(0f, 1f);

    /// <summary>The float for pixel byte <paramref name="b"/>.</summary>
    public float Apply(byte b) => (b / 255f - Mean) / Std;
}
