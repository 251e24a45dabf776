namespace Dsl.Visualization;

/// <summary>
/// An occlusion-sensitivity map (<see cref="Occlusion.Compute"/>): <see cref="Drops"/>[row * Columns + column] is the
/// probability of class <see cref="Label"/> without a patch minus with the patch whose top-left corner is at
/// (row * Stride, column * Stride); positive where hiding the region hurts the prediction.
/// </summary>
public sealed record OcclusionMap(float[] Drops, int Rows, int Columns, int Patch, int Stride, int Height, int Width, int Label, float Probability)
{
    /// <summary>The map per pixel [Height * Width]: the mean drop of the patches covering each pixel (0 where none does).</summary>
    public float[] PixelMap()
    {
        var sum = new double[Height * Width];
        var count = new int[Height * Width];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                for (int y = r * Stride; y < r * Stride + Patch; y++)
                {
                    for (int x = c * Stride; x < c * Stride + Patch; x++)
                    {
                        sum[y * Width + x] += Drops[r * Columns + c];
                        count[y * Width + x]++;
                    }
                }
            }
        }
        var map = new float[sum.Length];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = count[i] == 0 ? 0f : (float)(sum[i] / count[i]);
        }
        return map;
    }
}
