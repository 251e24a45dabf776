namespace Dsl.Visualization;

/// <summary>
/// A PNG a visualisation wrote: its path, size, and where each tile's pixels lie (one rectangle per tile, in the order the
/// tiles were given; each source value is a <see cref="Scale"/> x <see cref="Scale"/> block).
/// </summary>
public sealed record Picture(string Path, int Width, int Height, int Scale, IReadOnlyList<PictureTile> Tiles);

/// <summary>Where one tile of a <see cref="Picture"/> lies, in pixels.</summary>
public sealed record PictureTile(int X, int Y, int Width, int Height);
