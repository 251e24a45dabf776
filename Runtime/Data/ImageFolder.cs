using SkiaSharp;

namespace Dsl.Data;

/// <summary>
/// Images stored one folder per class (torchvision's <c>ImageFolder</c>): <c>root/cat/001.png</c>,
/// <c>root/dog/xyz.jpg</c>. Classes are the subfolders in ordinal order (label 0 is the first); PNG and JPEG files are
/// decoded with SkiaSharp and kept as bytes (see <see cref="LabeledImages"/>).
/// </summary>
public static class ImageFolder
{
    /// <summary>The file extensions read (case-insensitive); other files are ignored.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg"];

    /// <summary>
    /// Loads every image under <paramref name="root"/>'s class folders. With <paramref name="height"/> and
    /// <paramref name="width"/> each image is resized (bilinear) to that size; without, all must share the first's size.
    /// </summary>
    /// <param name="root">The folder holding one subfolder per class.</param>
    /// <param name="channels">1 (grey: the luma of RGB) or 3 (RGB).</param>
    /// <param name="height">The height every image is resized to, or null to require equal sizes.</param>
    /// <param name="width">The width every image is resized to, or null to require equal sizes.</param>
    /// <param name="scaling">How bytes become floats.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folder or no image, an undecodable file, or a size that differs.</exception>
    public static LabeledImages Load(string root, int channels = 3, int? height = null, int? width = null, PixelScaling? scaling = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), $"An image folder is read as 1 (grey) or 3 (RGB) channels, got {channels}.");
        }
        if (height is < 1 || width is < 1 || height.HasValue != width.HasValue)
        {
            throw new ArgumentException($"Give both a positive height and width, or neither; got {height}x{width}.");
        }
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The image folder {Path.GetFullPath(root)} does not exist.");
        }
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
        {
            throw new InvalidDataException($"{Path.GetFullPath(root)} holds no class folders (one subfolder per class, images inside).");
        }
        var files = new List<(string Path, long Label)>();
        for (int c = 0; c < classes.Length; c++)
        {
            foreach (var file in Directory.GetFiles(Path.Combine(root, classes[c])).Order(StringComparer.Ordinal))
            {
                if (Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                {
                    files.Add((file, c));
                }
            }
        }
        if (files.Count == 0)
        {
            throw new InvalidDataException($"{Path.GetFullPath(root)}'s class folders ({string.Join(", ", classes)}) hold no PNG or JPEG files.");
        }

        int h = height ?? 0, w = width ?? 0;
        byte[]? pixels = null;
        var labels = new long[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            using var decoded = SKBitmap.Decode(files[i].Path)
                ?? throw new InvalidDataException($"{files[i].Path} could not be decoded as an image.");
            if (h == 0)
            {
                (h, w) = (decoded.Height, decoded.Width);
            }
            SKBitmap bitmap = decoded;
            SKBitmap? resized = null;
            if (decoded.Height != h || decoded.Width != w)
            {
                if (height is null)
                {
                    throw new InvalidDataException(
                        $"{files[i].Path} is {decoded.Width}x{decoded.Height} but {files[0].Path} is {w}x{h}: give a height and width to resize to.");
                }
                resized = decoded.Resize(new SKImageInfo(w, h), new SKSamplingOptions(SKFilterMode.Linear));
                bitmap = resized ?? throw new InvalidDataException($"{files[i].Path} could not be resized to {w}x{h}.");
            }
            pixels ??= new byte[checked(files.Count * channels * h * w)];
            Write(bitmap, pixels.AsSpan(i * channels * h * w, channels * h * w), channels);
            resized?.Dispose();
            labels[i] = files[i].Label;
        }
        return new LabeledImages(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), pixels!, labels, channels, h, w, scaling ?? PixelScaling.Unit)
        {
            ClassNames = classes,
        };
    }

    /// <summary>Planar [C,H,W] bytes: RGB, or the ITU-R BT.601 luma torchvision's <c>Grayscale</c> uses.</summary>
    private static void Write(SKBitmap bitmap, Span<byte> destination, int channels)
    {
        int h = bitmap.Height, w = bitmap.Width, plane = h * w;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                SKColor color = bitmap.GetPixel(x, y);
                int at = y * w + x;
                if (channels == 1)
                {
                    destination[at] = (byte)Math.Clamp((int)MathF.Round(0.299f * color.Red + 0.587f * color.Green + 0.114f * color.Blue), 0, 255);
                }
                else
                {
                    destination[at] = color.Red;
                    destination[plane + at] = color.Green;
                    destination[2 * plane + at] = color.Blue;
                }
            }
        }
    }
}
