namespace Dsl.Visualization;

/// <summary>The <see cref="K"/> nearest neighbours of each of <see cref="Count"/> points, nearest first.</summary>
public sealed class KnnGraph
{
    internal KnnGraph(int count, int k)
    {
        Count = count;
        K = k;
        Indices = new int[count * k];
        SquaredDistances = new float[count * k];
    }

    /// <summary>Points.</summary>
    public int Count { get; }

    /// <summary>Neighbours per point.</summary>
    public int K { get; }

    /// <summary><c>[Count, K]</c>: the neighbours' indices.</summary>
    public int[] Indices { get; }

    /// <summary><c>[Count, K]</c>: their squared Euclidean distances.</summary>
    public float[] SquaredDistances { get; }

    /// <summary>The neighbours of point <paramref name="i"/>.</summary>
    public ReadOnlySpan<int> Row(int i) => Indices.AsSpan(i * K, K);
}
