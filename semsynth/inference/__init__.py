"""Using trained models: sampling (layouts and photos from a generator, one seed per sample), the two-stage
Pipeline (layout GAN -> SPADE/USIS), segment (a trained segmenter on photos) and visualize (PNG writers).
Nothing here trains; training never imports it except for visualize's PNG writer."""
